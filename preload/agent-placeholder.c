int fathom_placeholder;
