"""The domain, pure: rules, assessments, alert reconciliation, price linkage and playbooks.

Nothing here touches a database, the network or Flask: every function takes plain values or
pandas DataFrames and returns plain values, so each rule can be read and tested alone.
"""
