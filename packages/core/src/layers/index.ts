// Store layers (retry, concurrency limit, events/metrics, fault injection): see ./README in ARCHITECTURE.md.
export {};
