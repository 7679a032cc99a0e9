"""AWS Billing (`billing`): billing views, their source views and tags."""
