"""Streamlit pages and components: thin, they call assessment/ and reports/ and render."""
