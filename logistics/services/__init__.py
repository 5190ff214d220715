"""Writers of the supply chain. Topic modules: stock (retail units of batches) and the others
the supply-chain work adds (intake, shipments, packing, inspection)."""
