// The page: written in full with the web-app issue.
