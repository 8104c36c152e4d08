"""torch.nn: modules, parameters, layers and losses."""
