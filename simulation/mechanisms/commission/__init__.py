"""The commission scheme: its pure settlement of a day, the refund queue and the static audit."""
