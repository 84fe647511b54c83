"""Files for people: the ledger and the thematic view (from the read side) as CSV or XLSX."""
