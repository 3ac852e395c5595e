using System.Net.Http.Headers;
using Rosetta.App.Api;

namespace Rosetta.Tests.Unit;

/// <summary>The Content-Disposition of storage downloads, files and folders' zips alike, as clients read it.</summary>
public sealed class DownloadDispositionTests
{
    [Theory]
    [InlineData("données.zip", "donn_es.zip")]
    [InlineData("日本語 results.zip", "___ results.zip")]
    [InlineData("run \"1\".txt", "run \"1\".txt")]
    [InlineData("plain.zip", "plain.zip")]
    public void TheNameIsGivenInUtf8AndAsAnAsciiFallback(string name, string ascii)
    {
        var header = StorageEndpoints.AttachmentDisposition(name);

        // As HttpClient (and a browser) read it: the UTF-8 name; the ASCII one for clients without filename*.
        var parsed = ContentDispositionHeaderValue.Parse(header);
        Assert.Equal("attachment", parsed.DispositionType);
        Assert.Equal(name, parsed.FileNameStar);
        Assert.Equal(ascii, Microsoft.Net.Http.Headers.HeaderUtilities.UnescapeAsQuotedString(parsed.FileName).ToString());
        Assert.DoesNotContain("=?", header); // never a MIME encoded-word, which clients save literally
        Assert.All(header, c => Assert.True(c is >= ' ' and <= '~', $"'{c}' in {header}"));
    }
}
