import Testing

@Test func placeholderKlaxonRulesTests() {}
