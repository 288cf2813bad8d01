"""The analyst's side: the ``promptsim`` command, similar-prompt queries, exports and reports."""
