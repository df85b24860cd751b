bp = object()
