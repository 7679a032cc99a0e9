"""Public AWS prices (us-east-1 list prices, USD) and reference data used by the model.

Prices are the public on-demand rates as published for us-east-1; other regions apply a
regional multiplier, which is how AWS's regional price differences mostly look.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    prefix: str  # usage-type prefix ("" for us-east-1)
    multiplier: float
    mtco2e_per_usd: float  # market-based emissions proxy for CARBON_EMISSIONS
    location: str


REGIONS: dict[str, Region] = {
    r.code: r
    for r in (
        Region("us-east-1", "US East (N. Virginia)", "", 1.0, 0.00011, "North America"),
        Region("us-east-2", "US East (Ohio)", "USE2-", 1.0, 0.00018, "North America"),
        Region("us-west-2", "US West (Oregon)", "USW2-", 1.0, 0.00002, "North America"),
        Region("eu-west-1", "Europe (Ireland)", "EU-", 1.11, 0.00004, "Europe"),
        Region("eu-central-1", "Europe (Frankfurt)", "EUC1-", 1.16, 0.00009, "Europe"),
        Region("ap-southeast-2", "Asia Pacific (Sydney)", "APS2-", 1.25, 0.00024, "Asia Pacific"),
        Region("ap-northeast-1", "Asia Pacific (Tokyo)", "APN1-", 1.26, 0.00019, "Asia Pacific"),
    )
}

# instance type -> (hourly Linux on-demand price us-east-1, vCPU, memory GiB)
EC2_TYPES: dict[str, tuple[float, int, float]] = {
    "t3.micro": (0.0104, 2, 1),
    "t3.small": (0.0208, 2, 2),
    "t3.medium": (0.0416, 2, 4),
    "t3.large": (0.0832, 2, 8),
    "m5.large": (0.096, 2, 8),
    "m5.xlarge": (0.192, 4, 16),
    "m5.2xlarge": (0.384, 8, 32),
    "c5.large": (0.085, 2, 4),
    "c5.xlarge": (0.17, 4, 8),
    "c5.2xlarge": (0.34, 8, 16),
    "r5.large": (0.126, 2, 16),
    "r5.xlarge": (0.252, 4, 32),
    "m6g.large": (0.077, 2, 8),
    "m6g.xlarge": (0.154, 4, 16),
    "c6g.xlarge": (0.136, 4, 8),
    "m7g.large": (0.0816, 2, 8),
    "g4dn.xlarge": (0.526, 4, 16),
}
WINDOWS_EXTRA_PER_VCPU = 0.046  # Windows licence, per vCPU-hour
OPERATING_SYSTEMS = ("Linux", "Windows")  # of EC2 instances (Windows adds the licence)

# RDS MySQL/PostgreSQL single-AZ on-demand, us-east-1
RDS_TYPES: dict[str, float] = {
    "db.t3.medium": 0.068,
    "db.m5.large": 0.171,
    "db.r5.large": 0.24,
    "db.r6g.large": 0.215,
    "db.r6g.xlarge": 0.43,
}

SIZE_FACTORS = {
    "nano": 0.25,
    "micro": 0.5,
    "small": 1,
    "medium": 2,
    "large": 4,
    "xlarge": 8,
    "2xlarge": 16,
    "4xlarge": 32,
}

# (usage-type suffix, unit, price) for per-unit meters
PRICES: dict[str, float] = {
    "ebs_gp3": 0.08,  # GB-Mo
    "ebs_gp2": 0.10,
    "ebs_snapshot": 0.05,
    "s3_standard": 0.023,  # GB-Mo
    "s3_ia": 0.0125,
    "s3_tier1": 0.000005,  # per PUT/COPY/POST/LIST request
    "s3_tier2": 0.0000004,  # per GET request
    "dt_out": 0.09,  # GB to the internet
    "dt_regional": 0.01,  # GB between AZs (each direction)
    "nat_hours": 0.045,
    "nat_bytes": 0.045,
    "alb_hours": 0.0225,
    "alb_lcu": 0.008,
    "lambda_gbs": 0.0000166667,
    "lambda_requests": 0.0000002,
    "ddb_write": 0.00000125,
    "ddb_read": 0.00000025,
    "ddb_storage": 0.25,
    "rds_storage": 0.115,
    "cw_metrics": 0.30,  # per metric-month
    "cw_logs": 0.50,  # GB ingested
    "kms_key": 1.0,  # per key-month
    "bedrock_input": 0.00025,  # per 1K input tokens
    "bedrock_output": 0.00125,  # per 1K output tokens
}

HOURS_PER_MONTH = 730.0

# the EBS volume types PRICES prices (`ebs_<type>`); a scenario may name others
EBS_VOLUME_TYPES = ("gp3", "gp2")

# AWS's offer term code of on-demand prices and the rate code of their one price dimension:
# a usage line's pricing_rate_code and the Price List's `<sku>.JRTCKXETXF.6YS6EN2CT7`
ON_DEMAND_TERM = "JRTCKXETXF"
ON_DEMAND_RATE = "6YS6EN2CT7"

# product code -> (service name, FOCUS ServiceCategory, FOCUS ServiceSubcategory)
SERVICES: dict[str, tuple[str, str, str]] = {
    "AmazonEC2": ("Amazon Elastic Compute Cloud", "Compute", "Virtual Machines"),
    "AmazonS3": ("Amazon Simple Storage Service", "Storage", "Object Storage"),
    "AmazonRDS": ("Amazon Relational Database Service", "Databases", "Relational Databases"),
    "AWSLambda": ("AWS Lambda", "Compute", "Serverless Compute"),
    "AmazonDynamoDB": ("Amazon DynamoDB", "Databases", "NoSQL Databases"),
    "AmazonVPC": ("Amazon Virtual Private Cloud", "Networking", "Network Connectivity"),
    "AWSELB": ("Elastic Load Balancing", "Networking", "Application Networking"),
    "AWSDataTransfer": ("AWS Data Transfer", "Networking", "Network Connectivity"),
    "AmazonCloudWatch": ("Amazon CloudWatch", "Management and Governance", "Observability"),
    "awskms": ("AWS Key Management Service", "Security", "Secret Management"),
    "AmazonBedrock": ("Amazon Bedrock", "AI and Machine Learning", "Generative AI"),
    "AmazonECS": ("Amazon Elastic Container Service", "Compute", "Containers"),
    "AmazonEKS": ("Amazon Elastic Kubernetes Service", "Compute", "Containers"),
    "ComputeSavingsPlans": ("Savings Plans for AWS Compute usage", "Compute", "Other (Compute)"),
    "AWSSupportBusiness": ("AWS Support (Business)", "Management and Governance", "Support"),
}

# product family -> the FOCUS (ServiceCategory, ServiceSubcategory) it is (EBS volumes and
# NAT gateways are billed under Amazon EC2, whose category is Compute)
FAMILY_CATEGORIES = {
    "Storage": ("Storage", "Block Storage"),
    "Storage Snapshot": ("Storage", "Backup Storage"),
    "Data Transfer": ("Networking", "Network Connectivity"),
    "NAT Gateway": ("Networking", "Network Connectivity"),
}


# families AWS lists as previous generation (EC2, and RDS as db.<family>.<size>)
PREVIOUS_GENERATION = frozenset({"c1", "c3", "cc2", "cr1", "g2", "hi1", "hs1", "i2", "m1", "m2"})
PREVIOUS_GENERATION |= {"m3", "r3", "t1"}


def focus_categories(product_code: str, family: str) -> tuple[str, str]:
    """FOCUS ServiceCategory and ServiceSubcategory of a line: its service's category (one
    per ServiceName, ServiceName-C-005-C) and, for a product family of its own, that family's
    subcategory when it belongs to the same category, else `Other (<category>)` (a
    subcategory is under its category, ServiceSubcategory-C-004-M)."""
    _, category, subcategory = SERVICES.get(product_code, ("", "Other", "Other (Other)"))
    found = FAMILY_CATEGORIES.get(family)
    if found is None:
        return category, subcategory
    return category, found[1] if found[0] == category else f"Other ({category})"


def current_generation(instance_type: str) -> str:
    """The `current_generation` product attribute: Yes or No."""
    family = instance_type.removeprefix("db.").split(".")[0]
    return "No" if family in PREVIOUS_GENERATION else "Yes"


def rate_code(sku: str) -> str:
    """The on-demand rate code of a SKU (`<sku>.<offer term code>.<rate code>`)."""
    return f"{sku}.{ON_DEMAND_TERM}.{ON_DEMAND_RATE}"


def size_factor(instance_type: str) -> float:
    size = instance_type.rsplit(".", 1)[-1]
    return float(SIZE_FACTORS.get(size, 4))


def region(code: str) -> Region:
    return REGIONS[code]
