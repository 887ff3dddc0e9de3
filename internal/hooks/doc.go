// Package hooks keeps the funcs waiting for something's end (a connection's
// close: engine.Conn.AfterClose), each run exactly once or refused.
//
// Contract:
//
//   - Add, from any goroutine, keeps fn and reports true until Take has run;
//     after that it refuses fn and reports false, so whoever added it knows
//     it will not run (and can clean up itself).
//   - AddKey is Add with a key, and Remove(key) takes that fn back before
//     Take (reporting true); after Take, or for a key gone already, it
//     reports false: the fn ran, runs or was removed.
//   - Take, once, marks the list ended and returns the funcs added before,
//     in order; the caller runs them. A later Take returns nothing.
//   - A List made by Ended is ended from the start: shared by everything
//     that ended before anyone added a hook, it never changes.
//   - The zero List is empty and open.
//   - A Slot makes its List on the first Add, and Take on a Slot nobody added
//     to ends it with the shared Ended list it is given: a hook nobody asked
//     for costs one nil pointer.
package hooks
