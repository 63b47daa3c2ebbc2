"""Task: T-081
Spec: specs/operations/battery.md §Running

The fault battery: real servers, real faults, and a ledger of what the clients were promised.
"""
