"""What the integrations do: CSV imports and public web forms, each through the leads' intake."""
