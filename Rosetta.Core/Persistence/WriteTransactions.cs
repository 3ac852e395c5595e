using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Rosetta.Core.Persistence;

/// <summary>
/// Check-then-write operations (is this id or name free? does the resource still exist? is nothing
/// left on it?) run inside one write transaction, so no other request writes between the check and
/// the write: two creations of one id give a 409 and a success, not a success and a constraint
/// error, and a computing resource or software cannot be removed while a task is being added to it.
/// </summary>
public static class WriteTransactions
{
    /// <summary>
    /// Begins a transaction that holds SQLite's write lock from the start (Microsoft.Data.Sqlite begins
    /// serializable transactions with <c>BEGIN IMMEDIATE</c>): the reads inside it see the latest commit,
    /// and other writers wait, up to the command timeout, until it commits or is disposed.
    /// </summary>
    public static Task<IDbContextTransaction> BeginWriteAsync(this RosettaDbContext db, CancellationToken ct) =>
        db.Database.BeginTransactionAsync(System.Data.IsolationLevel.Serializable, ct);
}
