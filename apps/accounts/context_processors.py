def tenant(request):
    membership = getattr(request, "membership", None)
    # A SimpleLazyObject wrapping None is truthy; unwrap it for templates.
    membership = membership if membership is not None and getattr(membership, "pk", None) else None
    return {"membership": membership, "organization": membership.organization if membership else None}
