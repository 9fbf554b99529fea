"""The registry's migrations, `NNNN_name.sql` or `NNNN_name.py`, applied in
the order of their numbers (see registry/infrastructure/migrations). Add a new
file for a change; never edit one that was released."""
