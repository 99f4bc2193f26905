"""Delivery channels behind one interface: `notify(message) -> Outcome`.

A channel never raises for a failed delivery: it says whether it worked, is worth retrying, is
permanent, or the endpoint is gone. No Flask, no SQLAlchemy, no knowledge of the service.
"""

CHANNELS = ("webhook", "wecom", "dingtalk", "email", "sms")
