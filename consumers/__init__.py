"""Reference agency-side consumers: what a recipient runs to load its topics."""
