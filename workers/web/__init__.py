"""The local web view (`kliping serve`): search, stories, entities, alerts, charts; server-rendered."""
