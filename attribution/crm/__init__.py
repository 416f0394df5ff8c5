"""CRM and web sources turned into the contract's inputs: Salesforce and HubSpot object exports
and web events become touches (each traceable to its source row), opportunities, contact roles
and milestones, with identity resolution and channel rules."""
