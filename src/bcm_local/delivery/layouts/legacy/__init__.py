"""Legacy CUR's layout: its paths, renamed columns, artifacts and the layout itself."""
