"""Service quality seen through the customer's eyes (Q1): delivery ratings, the NPS question
and the support cases a low score opens, each with a promised response time."""
