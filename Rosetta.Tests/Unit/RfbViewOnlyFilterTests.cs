using System.Buffers.Binary;
using Rosetta.App.Proxy;

namespace Rosetta.Tests.Unit;

/// <summary>
/// The view-only filter over a browser's RFB messages: what shapes the guest's own picture passes
/// byte for byte however the WebSocket cut the stream; input, clipboard, resizing and power actions
/// never do; what cannot be measured ends the connection.
/// </summary>
public sealed class RfbViewOnlyFilterTests
{
    // Messages as noVNC sends them (RFC 6143 §7.5 and the community extensions).
    private static readonly byte[] PixelFormat = [0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0];
    private static readonly byte[] Encodings = [2, 0, 0, 3, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x21, 0xFF, 0xFF, 0xFE, 0xCC];
    private static readonly byte[] UpdateRequest = [3, 0, 0, 0, 0, 0, 5, 0, 3, 32];
    private static readonly byte[] ContinuousUpdates = [150, 1, 0, 0, 0, 0, 5, 0, 3, 32];
    private static readonly byte[] Fence = [248, 0, 0, 0, 0x80, 0, 0, 3, 2, 7, 9];
    private static readonly byte[] Key = [4, 1, 0, 0, 0, 0, 0, 0x61];
    private static readonly byte[] Pointer = [5, 1, 0, 10, 0, 20];
    private static readonly byte[] QemuKey = [255, 0, 0, 1, 0, 0, 0, 0x61, 0, 0, 0, 0x1E];
    private static readonly byte[] Xvp = [250, 0, 1, 2]; // shutdown
    private static readonly byte[] DesktopSize = [251, 0, 3, 0, 2, 88, 2, 0, .. new byte[32]]; // 768x600, two screens

    private static byte[] CutText(int length, bool extended = false)
    {
        var message = new byte[8 + length];
        message[0] = 6;
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(4), extended ? -length : length);
        message.AsSpan(8).Fill((byte)'x');
        return message;
    }

    [Fact]
    public void WhatShapesTheGuestsPicturePassesAndInputDoesNotHoweverTheStreamIsCut()
    {
        byte[] clientInit = [0]; // "not shared": would disconnect the owner
        byte[][] session = [clientInit, PixelFormat, Key, Encodings, Pointer, UpdateRequest, CutText(300), QemuKey, ContinuousUpdates,
            DesktopSize, Fence, Xvp, CutText(70_000, extended: true), UpdateRequest];
        byte[] expected = [1, .. PixelFormat, .. Encodings, .. UpdateRequest, .. ContinuousUpdates, .. Fence, .. UpdateRequest];
        var stream = session.SelectMany(m => m).ToArray();
        var random = new Random(6143);
        for (var round = 0; round < 300; round++)
        {
            var filter = new RfbViewOnlyFilter();
            var passed = new List<byte>();
            var maxChunk = round switch { 0 => 1, 1 => stream.Length, _ => random.Next(1, 80_000) };
            for (var at = 0; at < stream.Length;)
            {
                var take = Math.Min(stream.Length - at, random.Next(1, maxChunk + 1));
                passed.AddRange(filter.Pass(stream.AsSpan(at, take)));
                at += take;
            }
            Assert.Equal(expected, passed);
        }
    }

    [Fact]
    public void NothingPassesUntilAnAllowedMessageIsWhole()
    {
        var filter = new RfbViewOnlyFilter();
        Assert.Equal([1], filter.Pass([1]));
        Assert.Empty(filter.Pass(Encodings.AsSpan(0, 3)));
        Assert.Empty(filter.Pass(Encodings.AsSpan(3, Encodings.Length - 4)));
        Assert.Equal(Encodings, filter.Pass(Encodings.AsSpan(Encodings.Length - 1)));
        Assert.Empty(filter.Pass(Pointer));
        Assert.Empty(filter.Pass(CutText(5).AsSpan(0, 7))); // its length not yet known
    }

    [Fact]
    public void TheLongestMessagesAreMeasuredRight()
    {
        // SetEncodings with 65,535 encodings, in pieces: passed whole, once.
        var encodings = new byte[4 + 4 * 65535];
        encodings[0] = 2;
        encodings[2] = encodings[3] = 0xFF;
        var filter = new RfbViewOnlyFilter();
        filter.Pass([1]);
        var passed = new List<byte>();
        foreach (var piece in encodings.Chunk(100_000)) passed.AddRange(filter.Pass(piece));
        Assert.Equal(encodings, passed);

        // A clipboard claiming int.MinValue bytes: 2 GiB to skip (not a negative count), whatever follows.
        byte[] huge = [6, 0, 0, 0, 0x80, 0, 0, 0];
        Assert.Empty(filter.Pass([.. huge, .. UpdateRequest]));
        Assert.Empty(filter.Pass(new byte[1_000_000]));
    }

    [Theory]
    [InlineData(new byte[] { 7, 0, 0, 0 })]          // no such client message
    [InlineData(new byte[] { 253, 0, 0, 0, 0, 0 })]  // GII: noVNC never sends it, and its length is not measured here
    [InlineData(new byte[] { 255, 1, 0, 0 })]        // QEMU audio
    public void AMessageTheFilterCannotMeasureEndsTheConnection(byte[] message)
    {
        var filter = new RfbViewOnlyFilter();
        filter.Pass([1, .. UpdateRequest]);
        Assert.Throws<InvalidDataException>(() => filter.Pass(message));
    }
}
