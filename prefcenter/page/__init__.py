"""The preferences page: its view model, forms, signed record, saving, unsubscribe flows and views.

Uses `access` for who the person is, `courier` for their preferences and `platform` for the
rest. Nothing is re-exported here, so importing one module never drags in the views.
"""
