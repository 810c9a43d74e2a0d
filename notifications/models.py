# Subscriptions, the inbox and webhook deliveries arrive with the background-work issue (#4).
