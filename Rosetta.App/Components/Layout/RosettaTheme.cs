using MudBlazor;

namespace Rosetta.App.Components.Layout;

/// <summary>The light and dark palettes; system fonts only (no web fonts: many sites have no internet).</summary>
public static class RosettaTheme
{
    public static readonly MudTheme Theme = new()
    {
        PaletteLight = new PaletteLight { Primary = "#3f51b5", Secondary = "#607d8b", AppbarBackground = "#3f51b5" },
        PaletteDark = new PaletteDark { Primary = "#8c9eff", Secondary = "#90a4ae" },
        Typography = new Typography
        {
            Default = new DefaultTypography { FontFamily = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"] },
        },
    };
}
