"""A stand-in for os_brick: just enough code to show what a trace looks like."""
