/** Vite bundles CSS imported from modules (uPlot's stylesheet). */
declare module '*.css';
