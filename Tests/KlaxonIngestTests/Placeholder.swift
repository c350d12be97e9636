import Testing

@Test func placeholderKlaxonIngestTests() {}
