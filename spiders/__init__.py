"""Site profiles and spiders, one module per wire service (see spiders/base.py)."""
