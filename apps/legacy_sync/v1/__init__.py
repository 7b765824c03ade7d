"""What v1 is: its entities (entities.py), its schema and unmanaged models, the one gateway to
its database (gateway.py), and the generated fixture."""
