"""Excel workbooks built from assessment results (the Excel issue fills this package)."""
