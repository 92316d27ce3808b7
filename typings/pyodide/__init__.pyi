# Stubs of the parts of Pyodide's `pyodide` package that pyodide_opfs uses.
