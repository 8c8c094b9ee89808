package sqlite

// WriterPragma reads a PRAGMA on the writer connection of s into dst.
func WriterPragma(s *Store, name string, dst any) error {
	return s.w.QueryRow("PRAGMA " + name).Scan(dst)
}
