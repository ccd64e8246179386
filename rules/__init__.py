"""The rule catalog; shipped inside the wheel as `kohalint.catalog`."""
