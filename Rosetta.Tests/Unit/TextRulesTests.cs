using Rosetta.Core.Validation;

namespace Rosetta.Tests.Unit;

public sealed class TextRulesTests
{
    [Fact]
    public void HalfACharacterIsNotWellFormed()
    {
        // In code, not as theory data: a test runner's serialization would already turn the halves into '\ufffd'.
        Assert.True(TextRules.IsWellFormed(""));
        Assert.True(TextRules.IsWellFormed("日本 😀 ﬁ \ufffd")); // a whole pair, and a replacement character typed on purpose
        Assert.False(TextRules.IsWellFormed("\ud800"));
        Assert.False(TextRules.IsWellFormed("x\ud83d")); // a high half at the end
        Assert.False(TextRules.IsWellFormed("\ude00x")); // a low half alone
        Assert.False(TextRules.IsWellFormed("\ude00\ud83d")); // both halves, in the wrong order
    }

    [Fact]
    public void ADisplayNameWithHalfACharacterIsRefusedSayingWhy()
    {
        var errors = new ValidationErrors();
        TextRules.DisplayName(errors, "name", "Anna\ud800");
        Assert.Equal(TextRules.BrokenCharacter, Assert.Single(errors.ToDictionary()["name"]));
    }

    [Theory]
    [InlineData("report\u202Etxt.exe")] // right-to-left override: shows as "reportexe.txt"
    [InlineData("a\u202Ab")]
    [InlineData("a\u2066b\u2069")]
    public void ADisplayNameWithATextDirectionOverrideIsRefused(string name)
    {
        var errors = new ValidationErrors();
        TextRules.DisplayName(errors, "name", name);
        Assert.StartsWith("must not contain text-direction overrides", Assert.Single(errors.ToDictionary()["name"]));
    }

    [Theory]
    [InlineData("\u05E9\u05DC\u05D5\u05DD \u200Fdata")] // Hebrew with a right-to-left mark
    [InlineData("数据 📓 Ünïcode")]
    public void ADisplayNameInAnyScriptPasses(string name)
    {
        var errors = new ValidationErrors();
        TextRules.DisplayName(errors, "name", name);
        Assert.True(errors.IsValid);
    }
}
