import "@mantine/core/styles.css";
import "./theme.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { MantineProvider, createTheme } from "@mantine/core";
import { App } from "./App";

// shade 8: white text on the filled buttons keeps a WCAG AA contrast (axe checks it)
const theme = createTheme({ primaryColor: "indigo", primaryShade: 8, defaultRadius: "sm" });

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <MantineProvider theme={theme}>
      <App />
    </MantineProvider>
  </StrictMode>,
);
