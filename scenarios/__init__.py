"""The shipped scenarios, installed as package data of ``zsim.scenarios`` (see zsim.catalog)."""
