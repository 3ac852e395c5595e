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
}
