// The ES module apps import.
