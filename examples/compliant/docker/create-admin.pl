#!/usr/bin/perl
# Creates the superlibrarian on the first start of a new instance. The password
# is read from a file (a compose secret) so it never shows up in `ps`.
use Modern::Perl;
use Getopt::Long qw(GetOptions);
use Koha::Patron;
use Koha::Patrons;

my $userid = 'admin';
my $password_file;
GetOptions( 'userid=s' => \$userid, 'password-file=s' => \$password_file )
    or die "usage: create-admin.pl [--userid NAME] --password-file FILE\n";

exit 0 if Koha::Patrons->find( { userid => $userid } );

open my $fh, '<', $password_file or die "cannot read $password_file: $!\n";
chomp( my $password = <$fh> );
close $fh;

my $patron = Koha::Patron->new(
    {
        surname      => 'Administrator',
        userid       => $userid,
        cardnumber   => '0001',
        branchcode   => 'MAIN',
        categorycode => 'S',
        flags        => 1,
    }
)->store;
$patron->set_password( { password => $password, skip_validation => 1 } );
say "created superlibrarian $userid";
