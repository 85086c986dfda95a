"""The service dashboard (Q2): the customer's figures beside the company's, per depot and week."""
