"""Every file format moebench reads and writes: result.json, machine spec files (TOML/JSON), probe
JSON. Versioned; validated once, at the edge."""
