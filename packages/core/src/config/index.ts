// Config schemas, URL parsing, backend registry and openStore.
export {};
