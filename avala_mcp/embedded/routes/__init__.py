"""The API's endpoints, one module per resource; each gives ``routes(store)`` for the app."""
