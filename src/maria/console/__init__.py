"""The web console and the offline API docs: static files built by ``console/`` and the
router that serves them."""
