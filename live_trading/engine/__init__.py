"""The trading engine: order path, recovery and the ports it talks to brokers through."""
