"""The Integration Programme's rules as plain Python, no I/O: forms, eligibility, case cycle."""
