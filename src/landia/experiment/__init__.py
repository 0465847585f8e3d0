"""The embedded experiment's synthetic world: landscape (texture, land cover, LAI). The weather
comes from :mod:`landia.forcing.weather`."""
