// KlaxonRules: rule repository model, loader, validation, router.
